/// GB-days as pages and CSV show them: two decimals, no grouping (`1234.50`), so a spreadsheet
/// reads the CSV's figure as a number.
enum GBDaysText {
    static func format(_ gbDays: Double) -> String {
        let hundredths = Int64((max(0, gbDays) * 100).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}
