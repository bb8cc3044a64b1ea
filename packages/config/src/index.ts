export * from './configError';
export * from './loadConfig';
