import Intake
import QRCodes
import Templates

/// `dashboard/index`: what the owner opens on — what needs attention, what came in (new since
/// the last visit marked), storage used of the quota, and each portal's link with its count,
/// a copy button and a QR code.
enum DashboardPage {
    /// How many of the latest files the recent-uploads list groups into submissions.
    static let recentFiles = 40
    /// The most submissions it shows.
    static let recentSubmissions = 10
    /// Counts above this are shown as “999+”: each costs at most this many index entries.
    static let countCap = 1000

    /// The owner's latest files grouped into what each client sent at once. The schema records
    /// no submission, so files are taken as one when they follow each other newest first from
    /// the same portal and client with the same message, within ten minutes of each other.
    static func submissions(_ files: [FileRecord]) -> [[FileRecord]] {
        var groups: [[FileRecord]] = []
        for file in files {
            if let last = groups.last?.last, last.portalID == file.portalID, last.clientName == file.clientName,
               last.clientEmail == file.clientEmail, last.clientMessage == file.clientMessage, last.createdAt - file.createdAt <= 600 {
                groups[groups.count - 1].append(file)
            } else {
                groups.append([file])
            }
        }
        return groups
    }

    /// One submission as a row: who, which files, when, and its delivery state in words.
    static func submission(_ files: [FileRecord], previousVisit: Int64?) -> TemplateValue {
        let first = files[0]
        let failed = files.filter { $0.status == FileUploadStatus.failed.rawValue }.count
        let waiting = files.filter { $0.status == FileUploadStatus.delivering.rawValue }.count
        let unreachable = files.filter { $0.storageStatus?.canAccessFiles == false }.count
        let state: String, tone: String
        if failed > 0 {
            (state, tone) = (failed == files.count ? "Delivery failed" : "\(failed) of \(files.count) failed", "error")
        } else if waiting > 0 {
            (state, tone) = ("Being delivered", "muted")
        } else if unreachable > 0 {
            (state, tone) = ("Storage unavailable", "error")
        } else {
            (state, tone) = ("Delivered", "ok")
        }
        let bytes = files.reduce(Int64(0)) { $0 + $1.size }
        return [
            "client": .string(first.clientName ?? first.clientEmail ?? "A client"),
            "email": first.clientName != nil ? first.clientEmail.map(TemplateValue.string) ?? .null : .null,
            "message": first.clientMessage.flatMap { $0.isEmpty ? nil : TemplateValue.string($0) } ?? .null,
            "portal": .string(first.portalName),
            "files": .list(files.prefix(5).map { ["name": .string($0.fileName), "size": .string(ByteSize(bytes: $0.size).description)] }),
            "more": files.count > 5 ? .string("and \(files.count - 5) more") : .null,
            "count": .string(Counted.text(files.count, "file")),
            "size": .string(ByteSize(bytes: bytes).description),
            "iso": .string(UTCDate.iso(first.createdAt)), "date": .string(UTCDate.minute(first.createdAt)),
            "state": .string(state), "tone": .string(tone),
            "isNew": .bool(previousVisit.map { first.createdAt > $0 } ?? false),
        ]
    }

    /// A portal with its full address, how many files it received, and its QR code.
    static func portal(_ portal: Portal, uploads: Int, baseURL: String) -> TemplateValue {
        let url = baseURL + "/p/" + portal.slug
        let qr = QRCodeCache.shared.svg(for: url)
        return [
            "id": .int(portal.id), "name": .string(portal.name), "slug": .string(portal.slug), "url": .string(url), "active": .bool(portal.active),
            "uploads": .string(Counted.text(uploads, "file")),
            "qr": qr.map(TemplateValue.html) ?? .null,
        ]
    }

    /// Storage used of the quota, for the bar (`w0`…`w100` set its width; no inline styles).
    static func usage(_ q: UserQuota) -> TemplateValue {
        let percent = q.usage.isInfinite ? 100 : min(100, Int((q.usage * 100).rounded()))
        return ["used": .string(ByteSize(bytes: q.usedBytes).description), "quota": .string(ByteSize(bytes: q.effectiveBytes).description),
                "percent": .int(Int64(percent)), "percentText": .string(UsagePercent.text(q)),
                "over": .bool(q.isOver), "near": .bool(q.isNear)]
    }

    /// A count that stops at `countCap`.
    static func capped(_ n: Int, _ one: String, _ many: String) -> String {
        n >= countCap ? "\(countCap - 1)+ \(many)" : Counted.text(n, one, many)
    }
}
