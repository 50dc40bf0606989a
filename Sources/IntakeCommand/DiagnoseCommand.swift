import ArgumentParser
import Intake

/// `intake diagnose`: the seed's troubleshooting checks for a user, a portal or a file.
struct DiagnoseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diagnose",
        abstract: "Find why storage, a portal or a file misbehaves: each check's verdict and its cure.",
        discussion: """
            Checks, in order: storage accounts and their states, OAuth accounts with no storage account, OAuth grants \
            (a read-only token call to the provider, unless --offline), portals and why each does or does not take \
            uploads, files their account makes unavailable, deliveries waiting or failed, quota and usage, stuck \
            delivery leases and reservations of dead processes.
            Exit status: 0 all ok, 1 warnings only, 2 a problem found, 64 bad arguments or nothing found by that name.
            """)

    @Option(help: "The owner's e-mail address.") var user: String?
    @Option(help: "A portal's slug (the part after /p/).") var portal: String?
    @Option(help: "A file's id (as on the Files page).") var file: Int64?
    @Flag(help: "Do not ask the providers about grants.") var offline = false
    @Flag(help: "Answer in JSON.") var json = false

    func validate() throws {
        guard [user != nil, portal != nil, file != nil].filter({ $0 }).count == 1 else {
            throw ValidationError("Give exactly one of --user EMAIL, --portal SLUG or --file ID.")
        }
    }

    func run() throws {
        let tools = try Wiring.Operator(command: "diagnose")
        let diagnostics = StorageDiagnostics(db: tools.database, clock: tools.clock)
        let grants = offline ? nil : try tools.grantCheck()
        let diagnosis: Diagnosis
        if let user {
            diagnosis = try diagnostics.diagnose(user: try tools.user(email: user), grants: grants)
        } else if let portal {
            guard let found = try tools.stores.portals.find(slug: portal) else { Startup.fail("no portal with the slug \(portal)", code: OperatorExit.usage) }
            diagnosis = try diagnostics.diagnose(portal: found, grants: grants)
        } else {
            guard let found = try diagnostics.diagnose(fileID: file!) else { Startup.fail("no file with the id \(file!)", code: OperatorExit.usage) }
            diagnosis = found
        }
        if json { try OperatorOutput.json(diagnosis) } else { OperatorOutput.text(diagnosis) }
        switch diagnosis.verdict {
        case .ok: return
        case .warning: throw ExitCode(OperatorExit.found)
        case .problem: throw ExitCode(OperatorExit.problem)
        }
    }
}
