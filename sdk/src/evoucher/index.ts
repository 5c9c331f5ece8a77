export * from './client.ts';
export * from './offline.ts';
export * from './refresher.ts';
export * from './token.ts';
