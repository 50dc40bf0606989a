import ArgumentParser
import Database
import FastCGI
import Foundation
import Intake
import IntakeWeb
import Logging
import Spool
import Templates
import Web

/// `intake worker`: one FastCGI worker process on the socket at fd 0 (started by `serve`, or by
/// any FastCGI process manager).
struct Worker: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve FastCGI requests on the listening socket at fd 0 (normally started by `serve`).")

    func run() throws {
        // Before any thread starts: two malloc arenas, not one per busy thread (soak-memory: 4 MiB less).
        ProcessMemory.limitArenas(2)
        let config = Startup.configuration()
        Startup.bootstrapLogging(config)
        var workerLogger = Logger(label: "intake.worker")
        workerLogger[metadataKey: "pid"] = "\(getpid())"
        let logger = workerLogger
        // Compiled once per process and shared by every thread; a broken template stops the
        // worker here, with its file, line and column in the log.
        let templates: TemplateLibrary
        let secretKey: [UInt8]
        do {
            templates = try TemplateLibrary(directory: config.templatesDirectory, reloading: config.templatesReload)
            secretKey = try SecretKeyStore.load(config.secretKeySource)
        } catch {
            logger.critical("cannot start the worker: \(error)")
            throw ExitCode(1)
        }
        let metrics = Wiring.workerMetrics(config, environment: ProcessInfo.processInfo.environment, logger: logger)
        // The WAL's checkpoints on a thread of their own, not inside the commit of whichever
        // request crossed the threshold while every other writer waits (before any connection opens).
        if case .sqlite(let path) = config.database {
            do {
                try SQLiteCheckpointer.start(path: path)
            } catch {
                logger.warning("checkpoints stay with the writers: \(error)")
            }
        }
        let worker = FastCGIWorker(threads: config.threads, shutdownGrace: config.shutdownGrace, logger: logger) {
            ApplicationHandler(Application(services: try Wiring.services(config, templates: templates, logger: logger, secretKey: secretKey,
                                                                         metrics: metrics)))
        }
        let code = worker.run {
            DeliveryRunner.start(configuration: config, templates: templates, logger: logger, secretKey: secretKey, metrics: metrics)
            MigrationRunner.start(configuration: config, templates: templates, logger: logger, secretKey: secretKey, metrics: metrics)
            reportWorkerReady(environment: ProcessInfo.processInfo.environment)
        }
        throw ExitCode(code)
    }
}

/// Adapts the transport-free application to the FastCGI worker.
final class ApplicationHandler: FastCGIHandler {
    private let application: Application
    init(_ application: Application) { self.application = application }
    func respond(to request: Request) throws -> Response { application.respond(to: request) }
    func finished(status: HTTPStatus, seconds: Double) { application.finished(status: status, seconds: seconds) }
}
