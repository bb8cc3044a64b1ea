export { startWorker, LOCK_DURATION_MS, STALLED_INTERVAL_MS, type RunningWorker, type StartWorkerOptions, type WorkerLogger } from './worker';
export { createSyncProducer, CRM_WRITE_DEBOUNCE_MS, type SyncProducer, type SyncProducerOptions } from './syncProducer';
export { SYNC_QUEUE, SYNC_JOB, createRedisConnection, type SyncJobData, type SyncReason } from './queues';
export { startScheduler, type Scheduler, type SchedulerOptions } from './scheduler';
export { classifyRunError } from './syncErrorHandler';
export { startMonitorSupervisor, type MonitorSupervisor, type MonitorSupervisorOptions } from './monitorSupervisor';
export { createSyncMetrics, type SyncMetrics, type RunOutcome, type TransportName } from './syncMetrics';
