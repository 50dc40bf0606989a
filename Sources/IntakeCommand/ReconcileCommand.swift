import ArgumentParser
import Intake

/// `intake reconcile`: the database against the storage providers. A dry run unless `--repair`;
/// text for people, `--json` for machines; the operator tools' exit codes (`OperatorExit`).
struct ReconcileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconcile",
        abstract: "Compare the database with the storage providers: missing files, orphans, usage counters.",
        discussion: """
            Lists delivered files their provider no longer has, files in Intake's folders at a provider \
            that no upload refers to (orphans), and usage counters that disagree with the files. Without \
            --repair nothing is changed. With --repair: counters are set to what the files sum to, missing \
            files are marked missing (their rows and usage stay; the owner sees them marked and may delete \
            them), orphans are moved to the "Intake Quarantine" folder beside "Intake" at the provider \
            (never deleted), and each repair is written to the audit log. DISCONNECTED and ERROR accounts \
            are not checked.

            Exit status: 0 consistent, or everything found was repaired; 1 inconsistencies found (a dry \
            run); 2 some could not be repaired, or some account could not be checked; 64 bad arguments.
            """)

    @Option(help: "Only this user's storage accounts and counters (their e-mail address).") var user: String?
    @Flag(help: "Repair what is found (otherwise a dry run that changes nothing).") var repair = false
    @Flag(help: "Print the report as JSON.") var json = false

    func run() throws {
        let tools = try Wiring.Operator(command: "reconcile")
        let userID = try user.map { try tools.user(email: $0).id }
        let reconciliation = Reconciliation(db: tools.database, clock: tools.clock, provider: tools.storageProvider)
        let report = repair ? try reconciliation.repair(userID: userID, by: tools.actor) : try reconciliation.report(userID: userID)
        if json { try OperatorOutput.json(report) } else { print(Self.text(report), terminator: "") }
        let code = Self.exitCode(report)
        if code != OperatorExit.ok { throw ExitCode(code) }
    }

    /// A problem when an account could not be checked or a repair failed; found when a dry run
    /// found something; else ok.
    static func exitCode(_ report: Reconciliation.Report) -> Int32 {
        if report.unchecked > 0 || (report.repair && report.unresolved > 0) { return OperatorExit.problem }
        return report.unresolved > 0 ? OperatorExit.found : OperatorExit.ok
    }

    /// The report for people: each account and what was found in it (and done, in a repair),
    /// the counters, and a summary line.
    static func text(_ report: Reconciliation.Report) -> String {
        var out = report.repair ? "Reconciliation with repair\n" : "Reconciliation (dry run: nothing is changed)\n"
        func outcome(_ done: Bool, _ what: String, _ error: String?) -> String {
            guard report.repair else { return "" }
            return done ? " -> \(what)" : " -> not repaired: \(error ?? "unknown")"
        }
        for account in report.accounts {
            let name = StorageProviderKind(rawValue: account.provider)?.displayName ?? account.provider
            out += "storage account \(account.accountID) (\(name) of \(account.owner), \(account.status))"
            if let why = account.notChecked {
                out += ": NOT CHECKED: \(why)\n"
                continue
            }
            let findings = account.missing.count + account.reappeared.count + account.orphans.count
            out += findings == 0 ? ": consistent\n" : "\n"
            for file in account.missing {
                out += "  missing at the provider: upload \(file.uploadID) \"\(file.fileName)\" (\(file.size) bytes) at \(file.providerPath ?? "?") [\(file.providerFileID)]"
                out += outcome(file.repaired == true, "marked missing", file.repairError) + "\n"
            }
            for file in account.reappeared {
                out += "  marked missing, but the provider has it again: upload \(file.uploadID) \"\(file.fileName)\" [\(file.providerFileID)]"
                out += outcome(file.repaired == true, "unmarked", file.repairError) + "\n"
            }
            for orphan in account.orphans {
                let size = orphan.file.size.map { "\($0) bytes" } ?? "size unknown"
                if let upload = orphan.deliveringUploadID {
                    out += "  not recorded yet, left to the delivery of upload \(upload): \(orphan.file.path) (\(size)) [\(orphan.file.fileID)]\n"
                    continue
                }
                out += "  orphan (no upload refers to it): \(orphan.file.path) (\(size)) [\(orphan.file.fileID)]"
                out += outcome(orphan.quarantinedAs != nil, "moved to \(orphan.quarantinedAs ?? "")", orphan.repairError) + "\n"
            }
        }
        if report.accounts.isEmpty { out += "no storage accounts\n" }
        for counter in report.counters {
            let whose = counter.counter == .userStorageUsedBytes ? "user \(counter.id) (\(counter.owner))" : "storage account \(counter.id) (\(counter.owner))"
            out += "counter \(counter.counter.rawValue) of \(whose): \(counter.recorded) recorded, the files add up to \(counter.actual)"
            out += outcome(counter.repairedTo != nil, "set to \(counter.repairedTo ?? 0)", nil) + "\n"
        }
        if report.counters.isEmpty { out += "counters: consistent\n" }
        out += "found \(report.found), unresolved \(report.unresolved), accounts not checked \(report.unchecked): "
        if report.consistent {
            out += report.found == 0 ? "consistent\n" : "everything found was repaired\n"
        } else if report.unresolved > 0 && !report.repair {
            out += "run again with --repair to fix what was found\n"
        } else {
            out += report.unresolved > 0 ? "some findings could not be repaired\n" : "some accounts could not be checked\n"
        }
        return out
    }
}
