"""Fan-out benchmark: how long one room command takes to reach every one of N Socket.IO clients,
on Lockstep and on a minimal Node Socket.IO server, in the same run. See README.md here."""
