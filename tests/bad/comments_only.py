# A file of comments only.
# from airflow.sdk import dag
#
# @dag
# def nothing(): ...
