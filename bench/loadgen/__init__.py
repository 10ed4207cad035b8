"""Load clients, each run as its own process so its GIL and event loop are not the harness's.

``python -m bench.loadgen KIND 'JSON-ARGS'`` runs one client and prints its result as JSON on the last stdout line;
``bench.loadgen.client.run_loadgen`` does that from the harness. A measured figure and its ceiling are always
produced by clients of this kind, so the client-side overhead is the same on both sides of a ratio.
"""
