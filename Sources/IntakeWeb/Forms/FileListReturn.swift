import Web

/// The `return_to` field of the files list's forms (delete, retry).
enum FileListReturn {
    /// Where an action on a file goes back to: the list with the filters and page it was sent
    /// from; any other path is replaced by the plain list, so the field cannot send the owner
    /// anywhere else.
    static func path(_ returnTo: String?) -> String {
        let path = LocalRedirect.sanitize(returnTo, fallback: "/dashboard/files")
        return path.hasPrefix("/dashboard/files?") ? path : "/dashboard/files"
    }
}
