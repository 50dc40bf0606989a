import Intake
import Templates
import Web

/// The analytics page's and `GET /api/v1/analytics`' view of a `StorageAnalytics.Report`: each
/// chart (inline SVG from `UsageChart`) with the table of its figures beside it, and the JSON.
enum AnalyticsPage {
    /// A client as pages and JSON name one who gave neither a name nor an address.
    static let anonymous = "(no name given)"

    /// What the selector offers: all files, each storage account, each portal.
    static func choices(accounts: [StorageAccount], portals: [Portal], selected: StorageAnalytics.Scope) -> [TemplateValue] {
        func choice(_ scope: StorageAnalytics.Scope, _ label: String) -> TemplateValue {
            ["value": .string(AnalyticsScopeForm.value(scope)), "label": .string(label), "selected": .bool(scope == selected)]
        }
        return [choice(.owner, "All my files")]
            + accounts.map { choice(.account($0.id), "Storage: " + accountName($0)) }
            + portals.map { choice(.portal($0.id), "Portal: " + $0.name) }
    }

    static func accountName(_ a: StorageAccount) -> String {
        let who = a.email ?? a.displayName
        return a.provider.displayName + (who.isEmpty ? "" : " (\(who))")
    }

    /// The page's view model; `scopeName` says whose files in words.
    static func values(_ r: StorageAnalytics.Report, scopeName: String) -> [String: TemplateValue] {
        let from = UTCDate.day(r.firstDay * 86400), to = UTCDate.day(r.lastDay * 86400)
        let received = r.days.reduce(Int64(0)) { $0 + $1.uploads }
        let receivedBytes = r.days.reduce(Int64(0)) { $0 + $1.bytes }
        let failed = r.days.reduce(Int64(0)) { $0 + $1.failures }
        let busyDays = r.days.filter { $0.uploads > 0 }.reversed()
        let failedDays = r.days.filter { $0.failures > 0 }.reversed()
        func figures(_ name: String, _ files: Int64, _ bytes: Int64) -> TemplateValue {
            ["name": .string(name), "files": .string(String(files)), "bytes": .string(ByteSize(bytes: bytes).description)]
        }
        return [
            "scopeName": .string(scopeName),
            "from": .string(from), "to": .string(to), "days": .string(String(r.days.count)),
            "storedFiles": .string(String(r.files)), "storedBytes": .string(ByteSize(bytes: r.bytes).description),
            "receivedFiles": .string(String(received)), "receivedBytes": .string(ByteSize(bytes: receivedBytes).description),
            "failedFiles": .string(String(failed)),
            "uploadsChart": .html(UsageChart.dayColumns(r.days.map { ($0.day, $0.uploads) }, id: "chart-uploads",
                                                        title: "Files received per day, \(scopeName), \(from) to \(to)", figures: .count)),
            "bytesChart": .html(UsageChart.dayColumns(r.days.map { ($0.day, $0.bytes) }, id: "chart-bytes",
                                                      title: "Bytes received per day, \(scopeName), \(from) to \(to)", figures: .bytes, color: "#8250df")),
            "failuresChart": .html(UsageChart.dayColumns(r.days.map { ($0.day, $0.failures) }, id: "chart-failures",
                                                         title: "Failed deliveries per day, \(scopeName), \(from) to \(to)", figures: .count, color: "#cf222e")),
            "clientsChart": .html(UsageChart.namedBars(r.clients.map { (clientName($0.name), $0.bytes) }, id: "chart-clients",
                                                       title: "Largest clients by bytes stored, \(scopeName)", figures: .bytes)),
            "typesChart": .html(UsageChart.namedBars(r.types.map { ($0.label, $0.bytes) }, id: "chart-types",
                                                     title: "Bytes stored by file type, \(scopeName)", figures: .bytes, color: "#1a7f37")),
            "hasUploads": .bool(received > 0), "hasFailures": .bool(failed > 0 || !r.recentFailures.isEmpty),
            "hasClients": .bool(!r.clients.isEmpty), "hasTypes": .bool(!r.types.isEmpty),
            "uploadDays": .list(busyDays.map { d in
                ["date": .string(UTCDate.day(d.day * 86400)), "uploads": .string(String(d.uploads)),
                 "bytes": .string(ByteSize(bytes: d.bytes).description), "failures": .string(String(d.failures))]
            }),
            "failureDays": .list(failedDays.map { d in ["date": .string(UTCDate.day(d.day * 86400)), "failures": .string(String(d.failures))] }),
            "clients": .list(r.clients.map { figures(clientName($0.name), $0.files, $0.bytes) }),
            "types": .list(r.types.map { t in
                var v = figures(t.label, t.files, t.bytes)
                if case .map(var m) = v {
                    m["extensions"] = .string(t.extensions.map { $0.name.isEmpty ? "other" : "." + $0.name }.joined(separator: ", "))
                    v = .map(m)
                }
                return v
            }),
            "recentFailures": .list(r.recentFailures.map { f in
                ["id": .string(String(f.id)), "fileName": .string(f.fileName), "portal": .string(f.portalName),
                 "size": .string(ByteSize(bytes: f.size).description), "client": .string(f.client ?? anonymous),
                 "reason": .string(f.reason ?? "—"), "at": UTCDate.moment(f.createdAt)]
            }),
        ]
    }

    static func clientName(_ name: String) -> String { name.isEmpty ? anonymous : name }

    /// The JSON API's body (described as `Analytics` in `public/openapi.json`).
    static func json(_ r: StorageAnalytics.Report) -> JSONValue {
        let scope: JSONValue = switch r.scope {
        case .owner: ["type": "owner", "id": .null]
        case .account(let id): ["type": "account", "id": .string(String(id))]
        case .portal(let id): ["type": "portal", "id": .string(String(id))]
        }
        func total(_ key: String, _ t: StorageAnalytics.Total) -> JSONValue { [key: .string(t.name), "files": .int(t.files), "bytes": .int(t.bytes)] }
        return [
            "scope": scope,
            "from": .string(UTCDate.day(r.firstDay * 86400)), "to": .string(UTCDate.day(r.lastDay * 86400)),
            "stored": ["files": .int(r.files), "bytes": .int(r.bytes)],
            "days": .array(r.days.map { d in
                ["date": .string(UTCDate.day(d.day * 86400)), "uploads": .int(d.uploads), "bytes": .int(d.bytes), "failures": .int(d.failures)]
            }),
            "clients": .array(r.clients.map { total("client", $0) }),
            "types": .array(r.types.map { t in
                ["family": t.family.map { .string($0.rawValue) } ?? .null, "label": .string(t.label), "files": .int(t.files), "bytes": .int(t.bytes),
                 "extensions": .array(t.extensions.map { total("extension", $0) })]
            }),
            "recentFailures": .array(r.recentFailures.map { f in
                ["id": .string(String(f.id)), "portal": .string(f.portalName), "fileName": .string(f.fileName), "size": .int(f.size),
                 "client": f.client.map(JSONValue.string) ?? .null, "failureReason": f.reason.map(JSONValue.string) ?? .null,
                 "createdAt": .int(f.createdAt)]
            }),
        ]
    }
}
