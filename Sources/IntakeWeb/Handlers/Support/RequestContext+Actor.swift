import Intake

extension RequestContext {
    /// Who made a change, for the audit log: the signed-in user (if any) and the address it came from.
    var actor: AuditLog.Actor {
        AuditLog.Actor(userID: user?.id, remoteAddress: request.remoteAddress)
    }
}
