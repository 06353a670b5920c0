import ImagedropPipeline
import ImagedropStore
import ImagedropSystem
import Logging

/// What `imagedrop run` runs, in start order, made from what start prepared; stopped in reverse:
/// 1. the HTTP endpoint: last to stop, so `/healthz` answers through the whole stop;
/// 2. the metrics writer: its last file (`imagedrop_up 0`) comes after everything below has stopped;
/// 3. the job table: leased jobs back to the queue and the stop recorded, once nothing takes jobs any more;
/// 4. the fleet heartbeat (`[fleet]`): the fleet sees the host through its grace period;
/// 5. the webhook sender: outlives the workers, so the outcomes they wrote are in its outbox;
/// 6. the upload workers, their preparer and the prober: patience `shutdown_grace_s`;
/// 7. the watcher's thread: first to stop, so no new file is queued while the rest winds down.
struct DaemonComponents {
    let list: Components
    let pool: UploadWorkerPool
    let endpoint: EndpointComponent?
    /// Where the main loop hands the host's figures for the fleet.
    let fleetHeartbeat: FleetHeartbeat?

    init(_ running: Daemon.Running, logger: Logger) {
        self.init(
            config: running.config, shared: running.shared, upload: running.upload, heartbeats: running.heartbeats,
            health: running.databaseHealth, watcher: running.watcher, logger: logger)
    }

    init(
        config: Config, shared: SharedConfig, upload: JobProcessor.Dependencies, heartbeats: Heartbeats,
        health: DatabaseHealth, watcher: Watcher, logger: Logger
    ) {
        pool = UploadWorkerPool(upload, heartbeats: heartbeats)
        let webhooks = WebhookSender(
            store: upload.store, config: upload.config, heartbeat: heartbeats.heartbeat("webhook"), logger: logger)
        endpoint = config.http.listen.map { listen in
            let site = StatusSite(
                gauges: GaugeSource(upload), config: upload.config, heartbeats: heartbeats, health: health)
            return EndpointComponent { try StatusEndpoint.start(listen, site: site, logger: logger) }
        }
        fleetHeartbeat = (upload.budget as? FleetBudget).map(FleetHeartbeat.init)
        let metrics = MetricsComponent(
            GaugeSource(upload), config: shared, heartbeat: heartbeats.heartbeat("metrics"), logger: logger)
        let inOrder: [(any Component)?] = [
            endpoint, metrics, JobTableComponent(upload.store, logger: logger),
            fleetHeartbeat.map(FleetHeartbeatComponent.init), WebhookComponent(webhooks),
            PoolComponent(pool, upload: upload), WatcherComponent(watcher),
        ]
        list = Components(inOrder.compactMap { $0 })
    }
}
