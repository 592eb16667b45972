"""The write side: load -> split -> embed -> store -> report."""
