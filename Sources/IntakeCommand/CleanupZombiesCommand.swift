import ArgumentParser
import Intake

/// `intake cleanup-zombies`: lists what is left behind that nobody will use; removes it with `--apply`.
struct CleanupZombiesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cleanup-zombies",
        abstract: "List (and with --apply remove) unused OAuth accounts, revoked grants' tokens, expired sessions, stale reservations and leases.",
        discussion: """
            Zombies: OAuth accounts that give no storage and back no storage account; the refused tokens still kept for \
            disconnected storage (forgotten; reconnecting asks anew); expired sessions and OAuth states; quota \
            reservations that expired or whose process is gone; delivery leases naming a process that is gone.
            Exit status: 0 nothing found, or all removed with --apply; 1 zombies listed (without --apply); 64 bad arguments.
            """)

    @Flag(help: "Remove what is listed (in one transaction, OAuth changes audited).") var apply = false
    @Flag(help: "Only list (the default); contradicts --apply.") var dryRun = false
    @Flag(help: "Answer in JSON.") var json = false

    func validate() throws { try OperatorOutput.refuseBoth(apply: apply, dryRun: dryRun, applyName: "apply") }

    func run() throws {
        let tools = try Wiring.Operator(command: "cleanup-zombies")
        let cleanup = ZombieCleanup(db: tools.database, clock: tools.clock)
        let report = apply ? try cleanup.apply(by: tools.actor) : try cleanup.report()
        if json {
            try OperatorOutput.json(report)
        } else {
            let verb = apply ? "removed" : "found"
            print("\(verb): \(report.unusedOAuthAccounts.count) unused OAuth account(s), \(report.revokedGrantsKept.count) revoked grant(s) with tokens kept, "
                  + "\(report.expiredSessions) expired session(s), \(report.expiredOAuthStates) expired OAuth state(s), "
                  + "\(report.staleReservations.count) stale reservation(s), \(report.staleDeliveryLeases.count) stale delivery lease(s)")
            for a in report.unusedOAuthAccounts { print("  unused OAuth account #\(a.id): \(a.provider) \(a.email ?? "") of \(a.userEmail)") }
            for a in report.revokedGrantsKept { print("  revoked grant kept #\(a.id): \(a.provider) \(a.email ?? "") of \(a.userEmail)") }
            for r in report.staleReservations { print("  stale reservation #\(r.id): \(ByteSize(bytes: r.bytes)) of user #\(r.userID)") }
            for f in report.staleDeliveryLeases { print("  stale delivery lease on file #\(f)") }
            if !apply && !report.isEmpty { print("Run again with --apply to remove them.") }
        }
        if !apply && !report.isEmpty { throw ExitCode(OperatorExit.found) }
    }
}
