import ArgumentParser
import Intake

/// `intake recount`: the counts the database keeps from the file rows, compared with the rows;
/// rebuilt from them with `--apply`.
struct RecountCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recount",
        abstract: "Compare (and with --apply rebuild) the counts kept from the file rows: totals, analytics, search index, usage.",
        discussion: """
            The database keeps counts of the file rows up to date as they change: each portal's and storage \
            account's delivered files and bytes, the site's totals, the storage analytics, the file-name search \
            index (SQLite) and each owner's usage. This lists those that disagree with the rows. With --apply it \
            rebuilds all of them from the rows in one transaction, without comparing first (every write waits \
            for it; nothing else changes), for after rows were written without them: a bulk import, a hand edit, a \
            restore of some tables. The search index is rebuilt but cannot be compared (it keeps no copy of what \
            it indexed).
            Exit status: 0 all agree, or rebuilt with --apply; 1 disagreements listed (without --apply); \
            2 the database could not be read or written (nothing changed); 64 bad arguments.
            """)

    @Flag(help: "Rebuild the counts (in one transaction, audited).") var apply = false
    @Flag(help: "Only compare (the default); contradicts --apply.") var dryRun = false
    @Flag(help: "Answer in JSON.") var json = false

    func validate() throws { try OperatorOutput.refuseBoth(apply: apply, dryRun: dryRun, applyName: "apply") }

    func run() throws {
        let tools = try Wiring.Operator(command: "recount")
        let counts = KeptCounts(db: tools.database, clock: tools.clock)
        let report: KeptCounts.Report
        do {
            report = apply ? try counts.rebuild(by: tools.actor) : try counts.check()
        } catch {
            Startup.fail("the counts could not be \(apply ? "rebuilt (nothing changed)" : "compared"): \(error)", code: OperatorExit.problem)
        }
        if json {
            try OperatorOutput.json(report)
        } else {
            if let differences = report.differences {
                print(differences.isEmpty ? "\(report.files) file(s): every kept count agrees with them"
                      : "\(report.files) file(s): \(differences.count) kind(s) of kept count disagree with them")
                for difference in differences { print("  \(difference.count): \(difference.rows) row(s) off") }
                if !differences.isEmpty { print("Run again with --apply to rebuild them.") }
            }
            if report.rebuilt { print("rebuilt every kept count from \(report.files) file(s) (the search index too)") }
        }
        if report.differences?.isEmpty == false { throw ExitCode(OperatorExit.found) }
    }
}
