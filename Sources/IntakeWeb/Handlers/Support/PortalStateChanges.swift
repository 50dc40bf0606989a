import Intake

/// How many of the owner's portals an action switched off and on, counted from their states
/// before and after it (the storage API's fix and sync report these).
struct PortalStateChanges {
    let deactivated: Int
    let reactivated: Int

    /// Each portal's active state now.
    static func snapshot(_ context: RequestContext) throws -> [Int64: Bool] {
        try context.stores.portals.activeStates(userID: context.user!.id)
    }

    init(from before: [Int64: Bool], to after: [Int64: Bool]) {
        var off = 0, on = 0
        for (id, was) in before {
            if was && after[id] == false { off += 1 }
            if !was && after[id] == true { on += 1 }
        }
        (deactivated, reactivated) = (off, on)
    }
}
