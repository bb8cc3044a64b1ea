export * from './windowsZonesData';
export * from './windowsZones';
export * from './zoneRules';
export * from './tzDefinition';
export * from './zonedTime';
export * from './recurrenceExpansion';
export * from './occurrencePlan';
