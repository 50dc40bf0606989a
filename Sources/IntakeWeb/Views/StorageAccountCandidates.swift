import Intake
import Web

/// The answer to a request that names a provider where the owner has several accounts of it:
/// which ones it could mean, so the caller can send `storageAccountId`.
enum StorageAccountCandidates {
    /// One account as a choice: its id, e-mail, name and state.
    static func value(_ a: StorageAccount) -> JSONValue {
        ["storageAccountId": .string(String(a.id)), "provider": .string(a.provider.rawValue), "email": a.email.map(JSONValue.string) ?? .null,
         "name": .string(a.displayName), "storageStatus": .string(a.status.rawValue)]
    }

    /// "3 (a@example.com), 5 (b@example.com)": the choices in a message.
    static func described(_ accounts: [StorageAccount]) -> String {
        accounts.map { "\($0.id) (\($0.email ?? $0.displayName))" }.joined(separator: ", ")
    }

    /// 409 `ambiguous` with `candidates`: the accounts of `provider` it could mean.
    static func ambiguous(_ accounts: [StorageAccount], provider: String) -> HTTPError {
        HTTPError(.conflict, code: "ambiguous",
                  "You have \(accounts.count) \(provider) accounts; send storageAccountId to say which: \(described(accounts)).",
                  details: [("candidates", .array(accounts.map(value)))])
    }
}
