import ArgumentParser
import Database
import Foundation
import Intake
import Integrations
import Logging

/// `intake reconcile`: the database against the storage providers (issue 16). A dry run unless
/// `--repair`; text for people, `--json` for machines. Exit codes: 0 consistent (or everything
/// repaired), 1 inconsistencies found (and, with `--repair`, some left unrepaired), 2 usage error,
/// 3 some account could not be checked (this wins over 1: the picture is incomplete).
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

            Exit codes: 0 consistent, or everything found was repaired; 1 inconsistencies found (with \
            --repair: some could not be repaired); 2 usage error; 3 some account could not be checked, or \
            the database is not migrated.
            """)

    @Option(help: "Only this user's storage accounts and counters (their e-mail address).") var user: String?
    @Flag(help: "Repair what is found (otherwise a dry run that changes nothing).") var repair = false
    @Flag(help: "Print the report as JSON.") var json = false

    func run() throws {
        let config = Startup.configuration()
        guard FileManager.default.fileExists(atPath: config.databasePath) else { Startup.fail("no database at \(config.databasePath)", code: 3) }
        let db = try SQLiteDatabase(path: config.databasePath)
        let applied = try Schema.migrator.appliedVersions(db)
        let pending = Schema.migrator.migrations.map(\.version).filter { !applied.contains($0) }
        guard pending.isEmpty else {
            Startup.fail("the database lacks migrations \(pending.map(String.init).joined(separator: ", ")); run `intake migrate` first", code: 3)
        }
        let clock = SystemClock()
        var userID: Int64?
        if let user {
            guard let found = try UserStore(db: db, clock: clock).findForSignIn(email: user) else { Startup.fail("no account with the e-mail \(user)", code: 2) }
            userID = found.user.id
        }
        let logger = Logger(label: "intake.reconcile")
        let reconciliation = Reconciliation(db: db, clock: clock, provider: Wiring.providers(
            config, database: db, secretKey: try SecretKeyStore.load(config.secretKeySource), logger: logger))
        let report = repair ? try reconciliation.repair(userID: userID, by: AuditLog.Actor(userID: nil, remoteAddress: ""))
                            : try reconciliation.report(userID: userID)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(Self.text(report), terminator: "")
        }
        let code = Self.exitCode(report)
        if code != 0 { throw ExitCode(code) }
    }

    /// 3 when an account could not be checked, else 1 when something found is still as it was, else 0.
    static func exitCode(_ report: Reconciliation.Report) -> Int32 {
        report.unchecked > 0 ? 3 : report.unresolved > 0 ? 1 : 0
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
