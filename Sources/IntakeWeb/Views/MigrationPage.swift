import Intake
import Templates
import Web

/// `dashboard/migration` (one migration's progress) and the Storage page's "Move files" section:
/// the form (which files, to which account, keep the old copies) and the latest migrations.
enum MigrationPage {
    /// The owner's migration named by the path; another owner's is "not found".
    static func owned(_ context: RequestContext) throws -> StorageMigration {
        guard let migration = try context.stores.migrations.find(id: try context.pathID(), userID: context.user!.id) else {
            throw HTTPError(.notFound, code: "not_found", "There is no such migration of yours.")
        }
        return migration
    }

    static func show(_ context: RequestContext, migration m: StorageMigration) throws -> Response {
        let stores = context.stores
        let destination = try stores.storageAccounts.find(id: m.destinationAccountID).map(name) ?? "a removed account"
        let failures = try stores.migrations.failures(migrationID: m.id)
        let left = try stores.migrations.oldCopiesLeft(migrationID: m.id)
        func rows(_ list: [StorageMigrationFailure]) -> TemplateValue {
            .list(list.map { ["id": .int($0.fileID), "name": .string($0.fileName), "size": .string(ByteSize(bytes: $0.sizeBytes).description),
                              "reason": .string($0.reason)] })
        }
        var response = try PageView.render(context, "dashboard/migration", title: "Moving files", [
            "id": .int(m.id),
            "what": .string(m.scopeName.prefix(1).uppercased() + m.scopeName.dropFirst()), "destination": .string(destination),
            "status": .string(statusText(m)), "running": .bool(m.status == .running), "paused": .bool(m.status == .paused),
            "finished": .bool(m.status == .finished),
            "done": .int(m.movedFiles + m.failedFiles), "total": .int(m.totalFiles),
            "moved": .string("\(m.movedFiles) of \(Counted.text(m.totalFiles, "file"))"),
            "bytes": .string("\(ByteSize(bytes: m.movedBytes)) of \(ByteSize(bytes: m.totalBytes))"),
            "failed": .int(m.failedFiles), "hasFailures": .bool(m.failedFiles > 0),
            "failures": rows(failures), "moreFailures": .bool(Int64(failures.count) < m.failedFiles),
            "left": rows(left), "hasLeft": .bool(!left.isEmpty),
            "keep": .bool(m.keepSource),
            "started": UTCDate.moment(m.createdAt), "ended": m.finishedAt.map(UTCDate.moment) ?? .null,
        ])
        // While files move the page loads itself again, without a script.
        if m.status == .running { response.headers.set("refresh", "5") }
        return response
    }

    /// An account as the choices name it: its provider and e-mail, or its own name.
    static func name(_ a: StorageAccount) -> String {
        a.email.map { "\(a.provider.displayName) (\($0))" } ?? a.displayName
    }

    static func statusText(_ m: StorageMigration) -> String {
        switch m.status {
        case .running: return "Moving: \(Counted.text(m.remainingFiles, "file")) to go"
        case .paused: return "Paused: \(Counted.text(m.remainingFiles, "file")) to go"
        case .finished: return m.failedFiles == 0 ? "Finished: every file moved" : "Finished: \(Counted.text(m.failedFiles, "file")) not moved"
        }
    }

    /// The Storage page's "Move files" values: the choices (each account with files, each
    /// portal; each active account as the destination), the form as sent, the latest migrations.
    static func section(_ context: RequestContext, accounts: [StorageAccount], form: FormState) throws -> [String: TemplateValue] {
        let user = context.user!
        let portals = try context.stores.portals.list(userID: user.id).map(\.portal)
        let chosen = form.values["what"] ?? "", to = form.values["destination"] ?? ""
        let names = Dictionary(uniqueKeysWithValues: accounts.map { ($0.id, name($0)) })
        let sources: [TemplateValue] = accounts.filter { $0.uploadedFiles > 0 }.map { a in
            ["value": .string("account-\(a.id)"), "label": .string("All files in \(names[a.id]!) (\(Counted.text(a.uploadedFiles, "file")))"),
             "selected": .bool(chosen == "account-\(a.id)")]
        } + portals.map { p in
            ["value": .string("portal-\(p.id)"), "label": .string("The files of portal \(p.name)"), "selected": .bool(chosen == "portal-\(p.id)")]
        }
        let destinations: [TemplateValue] = accounts.filter { $0.status == .active }.map { a in
            ["value": .string(String(a.id)), "label": .string(names[a.id]!), "selected": .bool(to == String(a.id))]
        }
        let recent = try context.stores.migrations.list(userID: user.id)
        return [
            "move": form.templateValue,
            "moveSources": .list(sources), "moveDestinations": .list(destinations),
            "canMove": .bool(!sources.isEmpty && accounts.filter { $0.status == .active }.count >= 2),
            "keepChecked": .bool(form.values["keep"] == "1"),
            "migrations": .list(recent.map { m in
                ["id": .int(m.id), "what": .string(m.scopeName.prefix(1).uppercased() + m.scopeName.dropFirst()), "destination": .string(names[m.destinationAccountID] ?? "a removed account"),
                 "status": .string(statusText(m)), "moved": .string("\(m.movedFiles) of \(m.totalFiles)")]
            }),
            "hasMigrations": .bool(!recent.isEmpty),
        ]
    }
}
