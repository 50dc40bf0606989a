import ArgumentParser
import Intake

/// `intake migrate-accounts`: the seed's migration of legacy portals and files to storage accounts.
struct MigrateAccountsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate-accounts",
        abstract: "Bind portals and files that name no storage account, by the upload rules (idempotent).",
        discussion: """
            A portal takes the owner's active account (rule 2/3, lowest id first); a file takes its portal's account, \
            or the one the rules choose. Each binding is audited. What cannot be bound (no active account) is listed.
            Exit status: 0 nothing left to bind; 1 (--dry-run) something would be bound; 2 something cannot be bound.
            """)

    @Flag(help: "List what would be bound; change nothing.") var dryRun = false
    @Flag(help: "Answer in JSON.") var json = false

    func run() throws {
        let tools = try Wiring.Operator(command: "migrate-accounts")
        let report = try LegacyBindings(db: tools.database, clock: tools.clock).run(apply: !dryRun, by: tools.actor)
        if json {
            try OperatorOutput.json(report)
        } else {
            print("\(dryRun ? "would bind" : "bound") \(report.bound.filter { $0.kind == "portal" }.count) portal(s) and "
                  + "\(report.bound.filter { $0.kind == "file" }.count) file(s); \(report.unbound.count) cannot be bound")
            for b in report.bound.prefix(50) { print("  \(b.kind) #\(b.id) of \(b.ownerEmail) → storage account #\(b.accountID!) (\(b.how))") }
            if report.bound.count > 50 { print("  … and \(report.bound.count - 50) more") }
            for b in report.unbound { print("  cannot bind \(b.kind) #\(b.id) of \(b.ownerEmail): \(b.how)") }
        }
        if !report.unbound.isEmpty { throw ExitCode(OperatorExit.problem) }
        if dryRun && !report.bound.isEmpty { throw ExitCode(OperatorExit.found) }
    }
}
