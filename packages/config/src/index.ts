export * from './configError';
export * from './loadConfig';
export * from './endpointPolicy';
