"""Work that runs off the script thread: jobs, the device's queue, their registry and the session's job."""
