import Intake
import Web

/// Whose files the analytics show, as the query says it: `account_id` or `portal_id` (the JSON
/// API's and the page's links), or the page's one selector `scope` (`all`, `account-3`,
/// `portal-5`). Nothing: all the owner's files. Both ids, or an id that is not a number, is a
/// 400; whether the account or portal is the owner's is the store's to say (404 otherwise).
enum AnalyticsScopeForm {
    static func parse(_ query: FormFields) throws -> StorageAnalytics.Scope {
        let account = query["account_id"].flatMap { $0.isEmpty ? nil : $0 }
        let portal = query["portal_id"].flatMap { $0.isEmpty ? nil : $0 }
        switch (account, portal) {
        case (let a?, nil): return .account(try id(a, "account_id"))
        case (nil, let p?): return .portal(try id(p, "portal_id"))
        case (_?, _?): throw HTTPError.badRequest("Send account_id or portal_id, not both.")
        case (nil, nil): break
        }
        guard let scope = query["scope"], !scope.isEmpty, scope != "all" else { return .owner }
        if scope.hasPrefix("account-") { return .account(try id(String(scope.dropFirst(8)), "scope")) }
        if scope.hasPrefix("portal-") { return .portal(try id(String(scope.dropFirst(7)), "scope")) }
        throw HTTPError.badRequest("Choose all files, one storage account or one portal.")
    }

    /// The selector's value for `scope` (the inverse of `parse`).
    static func value(_ scope: StorageAnalytics.Scope) -> String {
        switch scope {
        case .owner: "all"
        case .account(let id): "account-\(id)"
        case .portal(let id): "portal-\(id)"
        }
    }

    private static func id(_ text: String, _ name: String) throws -> Int64 {
        guard text.utf8.count <= 18, text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }), let id = Int64(text), id > 0 else {
            throw HTTPError.badRequest("\(name) is a record's id: digits only.")
        }
        return id
    }
}
