//! One RLPx connection as a sans-IO state machine (filled in next).
