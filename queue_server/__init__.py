"""madoguchi queue server: the engine, the HTTP API and the real-time stream."""
