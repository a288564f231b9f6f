//! NFS probe (clp_nfsmon): placeholder until the ONC RPC / NFS client lands.
