import Foundation
import Intake
import Web

/// The files list's filters as the query carries them (`portal`, `account`, `client`, `q`,
/// `status`, `from`, `to`), shared by the page and `GET /api/v1/uploads`.
enum FileFilterForm {
    /// The query's filters; text is cut to 100 characters, an unknown status is no filter, and a
    /// date not written `2026-11-21` is a 400.
    static func parse(_ query: FormFields) throws -> FileStore.Filter {
        var f = FileStore.Filter()
        f.portalID = query["portal"].flatMap { Int64($0) }
        f.accountID = query["account"].flatMap { Int64($0) }
        f.client = query["client"].map { String($0.prefix(100)) }
        f.search = query["q"].map { String($0.prefix(100)) }
        f.status = query["status"].flatMap { FileStatusView.filterOptions.map(\.value).contains($0) && !$0.isEmpty ? $0 : nil }
        f.from = try query["from"].flatMap(day)
        f.to = try query["to"].flatMap(day).map { $0 + 86400 }
        return f
    }

    /// Where a page starts (`before` on the page, `cursor` in the API): the text a previous page
    /// gave; empty → the first page; anything else is a 400.
    static func cursor(_ text: String?) throws -> PageCursor? {
        guard let text, !text.isEmpty else { return nil }
        guard let cursor = PageCursor(text), cursor.integer != nil else {
            throw HTTPError.badRequest("That page cursor is not one this list gave; start again from the first page.")
        }
        return cursor
    }

    /// `2026-11-21` → the epoch of its start (UTC); empty → nil; anything else is a 400.
    static func day(_ text: String) throws -> Int64? {
        if text.isEmpty { return nil }
        let parts = text.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3, (1970...9999).contains(parts[0]), (1...12).contains(parts[1]), (1...31).contains(parts[2]) else {
            throw HTTPError.badRequest("Dates are written 2026-11-21.")
        }
        var c = DateComponents()
        (c.year, c.month, c.day) = (parts[0], parts[1], parts[2])
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        guard let date = calendar.date(from: c) else { throw HTTPError.badRequest("Dates are written 2026-11-21.") }
        return Int64(date.timeIntervalSince1970)
    }
}
