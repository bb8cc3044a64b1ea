export * from './guardedHttp';
