import Foundation
@testable import Intake
@testable import IntakeWeb
import Templates
import Testing

@Suite("The audit log read as sentences")
struct AuditEntryViewTests {
    func entry(actor: String?, action: String, entity: String, id: String?, before: String?, after: String?) -> AuditLog.Entry {
        AuditLog.Entry(id: 7, actorEmail: actor, action: action, entityType: entity, entityID: id, before: before, after: after,
                       remoteAddress: "203.0.113.9", createdAt: 1_765_000_000)
    }

    func text(_ value: TemplateValue, _ key: String) -> String? {
        guard case .map(let map) = value, case .string(let s)? = map[key] else { return nil }
        return s
    }

    func changes(_ value: TemplateValue) -> [[String: TemplateValue]] {
        guard case .map(let map) = value, case .list(let list)? = map["changes"] else { return [] }
        return list.compactMap { if case .map(let m) = $0 { return m } else { return nil } }
    }

    @Test("a person, a client and Intake each read as the subject; an unknown action keeps its code")
    func subjects() {
        #expect(text(AuditEntryView.entry(entry(actor: "root@example.com", action: "user.quota_override_set", entity: "user", id: "2",
                                                before: nil, after: nil)), "sentence") == "root@example.com set a quota for user #2.")
        #expect(text(AuditEntryView.entry(entry(actor: nil, action: "upload.received", entity: "file_upload", id: "12",
                                                before: nil, after: nil)), "sentence") == "A client uploaded file #12.")
        #expect(text(AuditEntryView.entry(entry(actor: nil, action: "upload.delivered", entity: "file_upload", id: "12",
                                                before: nil, after: nil)), "sentence") == "Intake delivered to storage file #12.")
        #expect(text(AuditEntryView.entry(entry(actor: nil, action: "something.new", entity: "gadget_thing", id: nil,
                                                before: nil, after: nil)), "sentence") == "Intake something.new gadget thing.")
    }

    @Test("each changed field once, in words: sizes in the one format, unchanged fields left out, removed and set values marked")
    func values() {
        let e = entry(actor: "root@example.com", action: "tariff_plan.update", entity: "tariff_plan", id: "1",
                      before: #"{"name":"Pro","storage_bytes":"100000000000","max_portals":"20","note":"x"}"#,
                      after: #"{"name":"Pro","storage_bytes":"1500000000","max_portals":"25","plan_id":null}"#)
        let rows = changes(AuditEntryView.entry(e)).map { row -> String in
            func s(_ k: String) -> String { if case .string(let v)? = row[k] { return v } else { return "-" } }
            return "\(s("field")): \(s("before")) → \(s("after"))"
        }
        #expect(rows == ["max portals: 20 → 25", "note: x → -", "storage: 100 GB → 1.5 GB", "plan: - → none"])
    }

    @Test("every action Intake records has its sentence")
    func everyActionHasASentence() throws {
        // The codes the sources pass to AuditLog.record, read from the source tree.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        var codes = Set<String>()
        for folder in ["Sources/Intake", "Sources/IntakeWeb", "Sources/IntakeCommand"] {
            let files = FileManager.default.enumerator(atPath: root.appendingPathComponent(folder).path)?.compactMap { $0 as? String } ?? []
            for file in files where file.hasSuffix(".swift") {
                let source = try String(contentsOf: root.appendingPathComponent(folder).appendingPathComponent(file), encoding: .utf8)
                for part in source.components(separatedBy: "action: \"").dropFirst() {
                    let code = String(part.prefix { $0 != "\"" })
                    if code.contains("."), !code.contains("\\") { codes.insert(code) }
                }
            }
        }
        #expect(codes.count > 30, "the scan found the recorded actions")
        let missing = codes.filter { AuditEntryView.byCode[$0] == nil }.sorted()
        #expect(missing.isEmpty, "no sentence for \(missing)")
    }
}
