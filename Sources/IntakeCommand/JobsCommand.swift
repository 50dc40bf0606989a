import ArgumentParser
import Curl
import Database
import Foundation
import Intake
import Logging
import Spool

/// `intake jobs run`: one pass of the background jobs (serve runs them every INTAKE_JOBS_INTERVAL s).
struct JobsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "jobs", abstract: "Background jobs.", subcommands: [Run.self])

    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run every background job once (mail delivery, expiry).")
        func run() throws {
            let config = Startup.configuration()
            let jobs = try Wiring.jobs(config, secretKey: try SecretKeyStore.load(config.secretKeySource), logger: Logger(label: "intake.jobs"))
            let curl = try CurlClient()
            let report = try jobs.runOnce(mail: curl, webhooks: curl)
            print(report.leader ? "jobs ran: \(report.mailSent) mail sent, \(report.sessionsRemoved) sessions and \(report.reservationsRemoved) reservations expired"
                                : "another runner holds the jobs lease; nothing done")
            if report.leader {
                let health = report.storageHealth
                print("storage health: \(health.checked) checked, \(health.recovered) recovered, \(health.failed) still failing, "
                      + "\(health.disconnected) disconnected, \(health.notChecked) not checked, \(health.mailed) owners mailed")
                let hooks = report.webhooks
                print("webhooks: \(hooks.delivered) delivered, \(hooks.retrying) to retry, \(hooks.failed) failed for good, "
                      + "\(hooks.endpointsDisabled) endpoints switched off")
            }
            for failure in report.failures {
                FileHandle.standardError.write(Data("job \(failure.job) failed: \(failure.error)\n".utf8))
            }
            if !report.failures.isEmpty { throw ExitCode(1) }
        }
    }
}

/// The jobs thread of `intake serve`.
enum JobRunner {
    /// This process's jobs holder (`host:pid:token`), one for the process's life, so a runner
    /// rebuilt after a failure keeps the leadership it had.
    static let holder = LeaseHolder(of: LocalProcesses())

    static func start(_ config: Configuration, secretKey: [UInt8], logger: Logger, counters: any OperationCounters) {
        let thread = Thread {
            var jobs: Jobs?
            var curl: CurlClient?
            while true {
                do {
                    if jobs == nil {
                        jobs = try Wiring.jobs(config, secretKey: secretKey, logger: logger, counters: counters)
                        curl = try CurlClient()
                    }
                    let report = try jobs!.runOnce(mail: curl, webhooks: curl)
                    if report.mailSent > 0 { logger.info("mail sent", metadata: ["count": "\(report.mailSent)"]) }
                    let hooks = report.webhooks
                    if hooks.delivered + hooks.retrying + hooks.failed + hooks.endpointsDisabled > 0 {
                        logger.info("webhooks sent", metadata: ["delivered": "\(hooks.delivered)", "retrying": "\(hooks.retrying)",
                                                                "failed": "\(hooks.failed)", "endpoints_disabled": "\(hooks.endpointsDisabled)"])
                    }
                    let health = report.storageHealth
                    if health.checked + health.notChecked > 0 {
                        logger.info("storage health checks", metadata: [
                            "checked": "\(health.checked)", "recovered": "\(health.recovered)", "failed": "\(health.failed)",
                            "disconnected": "\(health.disconnected)", "not_checked": "\(health.notChecked)", "mailed": "\(health.mailed)",
                        ])
                    }
                    for failure in report.failures {
                        logger.error("background job failed", metadata: ["job": "\(failure.job)", "error": "\(failure.error)"])
                    }
                } catch {
                    logger.error("background jobs failed", metadata: ["error": "\(error)"])
                    jobs = nil
                }
                Thread.sleep(forTimeInterval: Double(config.jobsInterval))
            }
        }
        thread.name = "intake-jobs"
        thread.start()
    }
}
