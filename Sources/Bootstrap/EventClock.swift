#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Handlers

extension SettableClock {
    /// Sets the clock to the event's `requestTimeEpoch` (WebSocket, REST) or `timeEpoch` (HTTP API);
    /// an event without either leaves it as it was.
    func set(fromEvent payload: [UInt8]) {
        guard let event = try? JSONValue(parsing: payload),
              let millis = (event["requestContext"]?["requestTimeEpoch"] ?? event["requestContext"]?["timeEpoch"])?.intValue else { return }
        set(Date(timeIntervalSince1970: Double(millis) / 1000))
    }
}
