export * from './queryable';
export * from './crmItemRepository';
export * from './linkRepository';
export * from './syncStateRepository';
export * from './changeFeedRepository';
export * from './conflictRepository';
