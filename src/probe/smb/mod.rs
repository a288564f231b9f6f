//! SMB probe (clp_sambamon): placeholder until the SMB2/3 client lands.
