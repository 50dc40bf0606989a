import Intake
import Templates

/// A reconciliation report as the clean-up page shows it: each account with its missing files
/// and orphans, then the counters that disagree.
enum ReconciliationView {
    static func value(_ report: Reconciliation.Report, owner: String) -> TemplateValue {
        [
            "owner": .string(owner),
            "repair": .bool(report.repair),
            "accounts": .list(report.accounts.map(account)),
            "counters": .list(report.counters.map { counter in
                ["name": .string(counter.counter.rawValue), "id": .int(counter.id), "recorded": .int(counter.recorded), "actual": .int(counter.actual),
                 "repairedTo": counter.repairedTo.map { .int($0) } ?? .null]
            }),
            "found": .int(Int64(report.found)),
            "unresolved": .int(Int64(report.unresolved)),
            "unchecked": .int(Int64(report.unchecked)),
            "consistent": .bool(report.consistent),
            "repairable": .bool(!report.repair && report.unresolved > 0),
        ]
    }

    static func account(_ account: Reconciliation.AccountReport) -> TemplateValue {
        [
            "id": .int(account.accountID),
            "provider": .string(StorageProviderKind(rawValue: account.provider)?.displayName ?? account.provider),
            "status": .string(account.status),
            "notChecked": account.notChecked.map(TemplateValue.string) ?? .null,
            "missing": .list(account.missing.map { file in
                ["id": .int(file.uploadID), "name": .string(file.fileName), "size": .string(ByteSize(bytes: file.size).description),
                 "repaired": .bool(file.repaired == true), "error": file.repairError.map(TemplateValue.string) ?? .null]
            }),
            "reappeared": .list(account.reappeared.map { ["id": .int($0.uploadID), "name": .string($0.fileName), "repaired": .bool($0.repaired == true)] }),
            "orphans": .list(account.orphans.filter { $0.deliveringUploadID == nil }.map { orphan in
                ["path": .string(orphan.file.path), "size": .string(orphan.file.size.map { ByteSize(bytes: $0).description } ?? "size unknown"),
                 "quarantinedAs": orphan.quarantinedAs.map(TemplateValue.string) ?? .null, "error": orphan.repairError.map(TemplateValue.string) ?? .null]
            }),
        ]
    }
}
