import ArgumentParser
import Intake

/// `intake fix-accounts`: the seed's fix — storage accounts created for OAuth accounts that hold
/// storage access but have none, and disconnected ones checked with the provider again.
struct FixAccountsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fix-accounts",
        abstract: "Create missing storage accounts from OAuth accounts and re-check disconnected ones.",
        discussion: """
            For each user (or the one given): a storage account for every OAuth account holding storage access that \
            has none; a disconnected account comes back only if the provider honours its grant (a token refresh).
            Exit status: 0 done without errors, 1 (--dry-run) something would be created, 2 errors, 64 bad arguments.
            """)

    @Option(help: "Only this user's accounts (e-mail address).") var user: String?
    @Flag(help: "List what would be created; change nothing and ask no provider.") var dryRun = false
    @Flag(help: "Answer in JSON.") var json = false

    struct UserResult: Encodable {
        let email: String
        let created: Int
        let reactivated: Int
        let validated: Int
        let errors: [String]
    }

    func run() throws {
        let tools = try Wiring.Operator(command: "fix-accounts")
        let userID = try user.map { try tools.user(email: $0).id }
        if dryRun {
            let missing = try StorageDiagnostics(db: tools.database, clock: tools.clock).missingStorageAccounts(userID: userID)
            if json {
                try OperatorOutput.json(["would_create": missing])
            } else {
                print(missing.isEmpty ? "Every OAuth account holding storage access has its storage account."
                                      : "Would create \(missing.count) storage account(s):")
                for m in missing { print("  \(m.provider.displayName) \(m.email ?? m.providerAccountID) for user #\(m.userID)") }
            }
            if !missing.isEmpty { throw ExitCode(OperatorExit.found) }
            return
        }
        let tokens = try tools.accessTokens()
        let manager = tools.stores.storageAccountManager
        var results: [UserResult] = []
        for (id, email) in try tools.stores.storageAccountManager.usersWithOAuthAccounts(userID: userID) {
            let summary = try manager.ensureStorageAccounts(userID: id, respectDisconnected: false, tokens: tokens, by: tools.actor)
            results.append(UserResult(email: email, created: summary.created, reactivated: summary.reactivated, validated: summary.validated, errors: summary.errors))
        }
        if json {
            try OperatorOutput.json(results)
        } else {
            for r in results {
                print("\(r.email): \(r.created) created, \(r.reactivated) reactivated, \(r.validated) validated, \(r.errors.count) error(s)")
                for e in r.errors { print("  error: \(e)") }
            }
            let total = results.reduce(into: (0, 0, 0, 0)) { $0.0 += $1.created; $0.1 += $1.reactivated; $0.2 += $1.validated; $0.3 += $1.errors.count }
            print("created \(total.0), reactivated \(total.1), validated \(total.2), errors \(total.3)")
        }
        if results.contains(where: { !$0.errors.isEmpty }) { throw ExitCode(OperatorExit.problem) }
    }
}
