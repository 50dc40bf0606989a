import ArgumentParser
import Database
import FastCGI
import Foundation
import Intake
import IntakeWeb
import Logging

/// `intake serve`: migrate, open the FastCGI socket, run the worker supervisor.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the supervisor: open the FastCGI socket and keep the worker processes running.")

    func run() throws {
        // Before anything can start a thread: the supervisor takes its signals synchronously.
        Supervisor.blockSignals()
        let config = Startup.configuration()
        Startup.bootstrapLogging(config)
        let logger = Logger(label: "intake.serve")
        guard let address = ListenAddress.parse(config.listen) else {
            Startup.fail("configuration error: INTAKE_LISTEN must be a socket path or 127.0.0.1:PORT, got '\(config.listen)'", code: 2)
        }
        let secretKey: [UInt8]
        do {
            try Startup.ensureHome(config)
            secretKey = try SecretKeyStore.load(config.secretKeySource)
            let db = try config.database.open()
            let applied = try Schema.migrator.migrate(db, now: Startup.now())
            if !applied.isEmpty { logger.info("migrations applied", metadata: ["versions": "\(applied)"]) }
            let expired = try SessionStore(db: db, clock: SystemClock()).deleteExpired()
            if expired > 0 { logger.info("expired sessions removed", metadata: ["count": "\(expired)"]) }
        } catch {
            Startup.fail("cannot start: \(error)")
        }
        let socket: ListenSocket
        do {
            socket = try ListenSocket(address)
        } catch {
            Startup.fail("cannot listen on \(address): \(error)")
        }
        let metrics: SiteMetrics
        do {
            metrics = try Wiring.supervisorMetrics(config)
        } catch {
            Startup.fail("cannot make the metrics counters: \(error)")
        }
        JobRunner.start(config, secretKey: secretKey, logger: logger, counters: metrics)
        let supervisor = Supervisor(
            socket: socket,
            command: .init(executable: "/proc/self/exe", arguments: ["intake", "worker"]),
            workers: config.workers, shutdownGrace: config.shutdownGrace, logger: logger)
        let code = supervisor.run()
        // Stopped: the counters go with the processes that kept them (a start makes them anew).
        try? FileManager.default.removeItem(atPath: Wiring.metricsPath(config))
        throw ExitCode(code)
    }
}
