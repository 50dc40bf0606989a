import Intake
import Templates

/// A file as a row of the files page: who sent it (name, address, message) through which
/// portal, its delivery state, its storage's state where that is not the normal “Connected”,
/// and what can be done with it (preview, download, retry, select).
enum FileRow {
    static func value(_ f: FileRecord) -> TemplateValue {
        let indicator = StorageStatusIndicator(status: f.storageStatus ?? .disconnected, legacy: f.storageStatus == nil)
        let status = FileUploadStatus(rawValue: f.status)
        let available = f.storageStatus?.canAccessFiles == true && status == .uploaded && f.missingSince == nil
        let state = f.missingSince != nil ? "Missing from storage" : FileStatusView.mark(status, retrying: f.failureReason != nil)
        let reason = f.missingSince.map { since in
            "Not found in \(f.provider?.displayName ?? "its storage") since \(UTCDate.minute(since)): it was deleted or moved to the bin there. Delete it here to free its space."
        } ?? f.failureReason
        let message = f.clientMessage.flatMap { $0.isEmpty ? nil : TemplateValue.string($0) } ?? .null
        return ["id": .int(f.id), "name": .string(f.fileName), "portal": .string(f.portalName),
                "client": .string(f.clientName ?? f.clientEmail ?? "—"),
                "email": f.clientName != nil ? f.clientEmail.map(TemplateValue.string) ?? .null : .null, "message": message,
                "size": .string(ByteSize(bytes: f.size).description),
                "iso": .string(UTCDate.iso(f.createdAt)), "date": .string(UTCDate.minute(f.createdAt)), "status": .string(f.status),
                "state": state.map(TemplateValue.string) ?? .null, "reason": reason.map(TemplateValue.string) ?? .null,
                "retryable": .bool(status == .failed),
                "indicator": .string(indicator.colour), "indicatorLabel": .string(indicator.label),
                "storageAbnormal": .bool(f.storageStatus != .active),
                "downloadable": .bool(available),
                "previewable": .bool(available && PreviewKind.candidate(fileName: f.fileName, contentType: f.contentType) != nil)]
    }
}
