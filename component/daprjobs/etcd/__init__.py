"""etcd: the store protocol the scheduler and actors use, its aetcd and in-memory implementations, the key
layout, and the embedded etcd process.
"""
