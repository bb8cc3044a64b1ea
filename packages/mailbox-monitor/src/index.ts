export * from './hostPolicy';
export * from './oauthClient';
export * from './parseInbound';
export * from './mailConnections';
export * from './mailboxTokens';
export * from './monitorSession';
