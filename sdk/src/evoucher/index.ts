export * from './offline.ts';
export * from './refresher.ts';
export * from './token.ts';
