"""State store components (``state.etcd``, ``state.redis``, in memory) behind one ``StateStore`` contract."""
