"""What anyone can see without an account: notices with objections, and announced lists."""
