"""The PBX edge: AMI (call control), FastAGI (call entry) and AudioSocket (media)."""
