//! Synchronous helpers shared by every runtime driver (filled in with the session).
