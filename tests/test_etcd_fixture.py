def test_etcd_starts(etcd):
    import urllib.request
    assert b"true" in urllib.request.urlopen(etcd.endpoint + "/health").read()
