//! authward-redis: work in progress (see the open issue).
