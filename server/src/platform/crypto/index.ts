export * from './envelope.ts';
export * from './sm2.ts';
export * from './sm3.ts';
export * from './sm4.ts';
