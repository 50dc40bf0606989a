import Intake
import Web

/// The Storage page's "Move files" form: `what` (`account-3`: all files of an account,
/// `portal-5`: a portal's files), `destination` (a storage account's id) and `keep` (the old
/// copies stay). Each field that does not parse gets its message; whether the ids are the
/// owner's is the store's to say.
struct MigrationForm {
    var scope: StorageMigrations.Scope?
    var destination: Int64?
    var keepSource = false
    var errors = FieldErrors()
    /// The fields as sent, for the form shown again.
    var values: [String: String] = [:]

    init(_ form: FormFields) {
        let what = String((form["what"] ?? "").prefix(40)), to = String((form["destination"] ?? "").prefix(20))
        keepSource = form["keep"] == "1"
        values = ["what": what, "destination": to, "keep": keepSource ? "1" : ""]
        if what.hasPrefix("account-"), let id = Self.id(what.dropFirst(8)) {
            scope = .account(id)
        } else if what.hasPrefix("portal-"), let id = Self.id(what.dropFirst(7)) {
            scope = .portal(id)
        } else {
            errors["what"] = "Choose the files to move: all files of an account, or a portal's."
        }
        destination = Self.id(Substring(to))
        if destination == nil { errors["destination"] = "Choose the storage account to move the files to." }
    }

    private static func id(_ text: Substring) -> Int64? {
        guard (1...18).contains(text.utf8.count), text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else { return nil }
        return Int64(text).flatMap { $0 > 0 ? $0 : nil }
    }
}
