export * from './configError';
export * from './loadConfig';
export * from './poolSize';
export * from './endpointPolicy';
