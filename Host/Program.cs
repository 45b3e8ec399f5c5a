// Scaffold: the ilgpu-vae command line is written by the host work.
return 0;
