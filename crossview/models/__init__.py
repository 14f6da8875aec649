"""Networks: the SAIG embedder, the generator and its layers, the discriminators, Pix2Pix."""
