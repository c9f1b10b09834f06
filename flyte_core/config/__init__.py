"""Configuration files and their strict schema."""
